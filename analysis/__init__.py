"""Pure numbers and charts: NPS, CSAT, intervals, comparisons, rankings, mystery-shop
scoring. Imports neither Flask nor SQLAlchemy; takes plain numbers, returns dataclasses."""
