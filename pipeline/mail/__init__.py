"""Pure mail helpers: parsing, text extraction, address and subject handling."""
