"""Mock interviews, the pure part: drawing items, key points of a model answer, scoring.

No Flask, no database, no clock: times and randomness come in as arguments. The service layer
(`quiz.interviews`) reads and writes the rows; the views read the clock.
"""
