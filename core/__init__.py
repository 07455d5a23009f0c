"""Platform-free core of bloombridge: message model, dialog pipeline, generation, stores."""
