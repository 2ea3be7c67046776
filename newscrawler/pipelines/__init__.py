"""Item pipelines, one small class each, ordered in settings.ITEM_PIPELINES."""
