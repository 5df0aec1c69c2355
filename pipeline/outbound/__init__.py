"""What Intake sends: mail through an SMTP relay, and signed webhook deliveries."""
