"""Presentation: charts and tables. Imports matplotlib only when a chart is drawn."""
