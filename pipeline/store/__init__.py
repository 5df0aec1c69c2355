"""SQL, one module per table family. Every function takes the organization it acts for."""
