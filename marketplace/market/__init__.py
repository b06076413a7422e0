"""The query market: price models, asking a federated query, quotes, purchases, delivery and /sparql."""
