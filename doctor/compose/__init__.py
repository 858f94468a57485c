"""Reading Compose files the way ``docker compose`` reads them: discovery, YAML, interpolation,
merging and the project name. Only what the doctor needs is modelled; other keys are ignored."""
