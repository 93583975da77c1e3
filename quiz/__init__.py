"""The web side: models, services, views and templates of the study service."""
