"""Write paths of the query market."""
