"""The database layer: target resolution, the embedded server, connectors, named queries."""
