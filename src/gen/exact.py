# src/gen/exact.py: exact integer logarithms of positive Fractions, shared by the table
# generators (dtoa_table.py, strtod_table.py).
from fractions import Fraction


def floor_log2(x):                 # x: positive Fraction
    n = x.numerator.bit_length() - x.denominator.bit_length()
    while Fraction(2) ** n > x:
        n -= 1
    while Fraction(2) ** (n + 1) <= x:
        n += 1
    return n


def floor_log10(x):
    n = 0
    while Fraction(10) ** n > x:
        n -= 1
    while Fraction(10) ** (n + 1) <= x:
        n += 1
    return n
