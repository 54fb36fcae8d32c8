"""Text participants write: word-cloud normalisation, free-text cleaning, the abuse word list."""
