"""Snakemake adapter: Table 2.7, seconds per training epoch of every model of dos.timing measured side by side
(seqstruct.dos.benchmark), its meta.json and the report beside the thesis.

Each model is timed in a spawned process, which imports this script again as ``__mp_main__``: the work runs
under the ``__main__`` guard only."""

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from seqstruct.common.io import atomic_path, read_json
from seqstruct.common.logs import setup_logging
from seqstruct.common.report import ComparisonSpec, render
from seqstruct.common.tables import table_meta, write_table
from seqstruct.dos.benchmark import REFERENCE, time_methods

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main() -> None:
    setup_logging(snakemake.log[0])
    dos = snakemake.params.dos
    timing = dos["timing"]
    selections = [read_json(p) for p in snakemake.input.selections]
    data_dir = Path(snakemake.input.data[0]).parent
    rows = time_methods(
        data_dir,
        {s["method"]: s["params"] for s in selections},
        epochs=timing["epochs"],
        batch_size=timing["batch_size"],
        seed=int(snakemake.params.seed),
    )
    ratio = f"ratio_to_{REFERENCE}"
    records = [
        {
            "method": r["method"],
            "seed": int(snakemake.params.seed),
            "test": {"seconds_per_epoch": r["seconds_per_epoch"], ratio: r[ratio]},
            **r,
        }
        for r in rows.to_dict("records")
    ]
    spec = ComparisonSpec(panel_keys=(), metrics={"seconds_per_epoch": "lower"}, headline="seconds_per_epoch")
    info = read_json(data_dir / "info.json")
    write_table(
        records,
        snakemake.output.table,
        keys=["method"],
        metrics=["seconds_per_epoch", ratio],
        directions={"seconds_per_epoch": "lower", ratio: "lower"},
        meta=table_meta(
            scale=snakemake.params.scale,
            source=dos["source"],
            raw=snakemake.input.raw,
            methods={s["method"]: s["params"] for s in selections},
            selections=selections,
            selection_label=("method", "dataset"),
            dataset=timing["dataset"],
            epochs=timing["epochs"],
            batch_size=timing["batch_size"],
            measured=rows.to_dict("records"),
            thesis=spec.to_json(),
            registry=snakemake.params.registry if dos["source"] == "real" else None,
        ),
    )
    device = sorted(set(rows["device"]))
    intro = (
        f"Seconds per training epoch on {info['dataset']} ({info['sizes']['train']} training materials), batch size "
        f"{timing['batch_size']}, {timing['epochs']} epochs each, every model in its own process one after the other "
        f"in one job, on {', '.join(device)} with {int(rows['torch_threads'].iloc[0])} CPU thread(s) (the thesis: one "
        "Nvidia V100, batch size not stated). Each model has the settings chosen on validation; the epoch time "
        "includes the per-epoch validation pass. The thesis' claim is the ratio: Xtal2DoS trains an epoch in a third "
        f"of Mat2Spec's time. Our ratios to Xtal2DoS: "
        + ", ".join(f"{r['method']} {r[ratio]:.2f}" for r in rows.to_dict("records"))
        + "."
    )
    text = render(pd.read_csv(snakemake.output.table), pd.read_csv(snakemake.input.thesis), spec, "Table 2.7", intro)
    with atomic_path(snakemake.output.report) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    main()
