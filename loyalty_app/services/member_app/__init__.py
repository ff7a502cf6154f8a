"""member_app"""
