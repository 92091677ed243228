"""The one life-cycle engine of leads, opportunities, activities and service requests."""
