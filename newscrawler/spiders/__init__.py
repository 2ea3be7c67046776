"""Spiders: requests in, responses handed to extract, records and failures out."""
