"""Demo data: a deterministic FedShop-like generator of multi-publisher RDF and its query workload."""
