"""GraphQL front door: the same services as REST behind Strawberry types."""
