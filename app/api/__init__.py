"""The JSON faces, one file per resource: parse, call services, shape the reply."""
