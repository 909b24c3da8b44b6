"""Synthetic landing data for demos, tests and benchmarks (`northstar generate`).

generate.py  the day-by-day generator (events, ad_spend, orders, leads + incidents.json manifest)
catalog.py   traffic sources, campaigns and pages of the synthetic shop (tagging follows the channel rules)
fx.py        the FX series behind seeds/fx_rates.csv (the generator converts with the same rates)
"""
