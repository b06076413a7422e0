"""Write paths of the model hub: models and variants, uploads, inspection, purchases, downloads."""
