"""Staffing: how many peers each hour needs, from explicit rates or from a line's history."""
