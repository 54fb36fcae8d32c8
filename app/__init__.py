"""Thirdspace: live polling and breakouts for facilitated events that take anonymity seriously."""
