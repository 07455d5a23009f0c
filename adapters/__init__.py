"""Platform adapters: translate platform events to the core model and render replies."""
