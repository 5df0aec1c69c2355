"""Process entry points: Dramatiq actors, the SMTP listener, the scheduler and the CLI."""
