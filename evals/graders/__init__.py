"""Graders, one module per task family: functions ``grade_*(ctx: GradeContext)``."""
