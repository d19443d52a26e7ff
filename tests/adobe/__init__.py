"""Adobe's documents the tests check against: the OpenAPI specs and the seed tutorials' API facts."""
