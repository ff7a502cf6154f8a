"""earning"""
