"""The best / median ratio table that bench_neural.py and bench_tabular.py
print (a module beside the scripts, imported when they run)."""


def print_best_median(rows, decimals):
    """Print ``(name, best, best ratio, median, median ratio)`` rows: values
    below 100 with ``decimals`` decimals, larger ones as integers."""
    width = max(len(r[0]) for r in rows)
    header = (f"{'measure':<{width}}  {'best':>10}  {'ratio':>6}  {'median':>10}  "
              f"{'ratio':>6}")
    print(header)
    print("-" * len(header))
    for name, b, rb, m, rm in rows:
        fmt = f"10.{decimals}f" if b < 100 else "10.0f"
        print(f"{name:<{width}}  {b:{fmt}}  {rb:6.3f}  {m:{fmt}}  {rm:6.3f}")
