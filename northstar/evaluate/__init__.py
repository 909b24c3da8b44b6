"""`northstar evaluate-alerts`: how well fct_kpi_alerts finds planted incidents and how often it pages for nothing.

score.py decides (pure functions over alert rows), run.py makes the data sets and builds them, report.py prints the
tables and writes docs/alerts.md.
"""
