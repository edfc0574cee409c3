"""`aigc recs`: train and compare recommenders, then serve top-N lists with reasons.

Example:
    $ aigc recs train data.csv --model ease --model item-knn --items items.csv
    $ aigc recs train demo --model ease --protocol strong --protocol random
    $ aigc recs recommend 7 --user 42 --n 10
    $ aigc recs similar 7 --item 1 --n 5
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from suite.commands.progress import TerminalProgress, stop_on_interrupt
from suite.workspace import Workspace

__all__ = ["MODEL_NAMES", "register"]

# The domain imports torch, so it loads inside the handlers (keeps `aigc runs` fast); a test checks
# this tuple against the domain's registry.
MODEL_NAMES = ("popularity", "item-knn", "ease", "als", "bpr", "mult-vae", "content", "hybrid")


def register(commands: Any) -> None:
    parser = commands.add_parser("recs", help="Recommender: compare models, recommend with reasons")
    sub = parser.add_subparsers(dest="recs_command", required=True, metavar="ACTION")

    train = sub.add_parser("train", help="train and compare recommenders as a workspace run")
    train.add_argument(
        "data", help="interactions CSV (user, item[, rating, timestamp]) or 'demo' (MovieLens)"
    )
    train.add_argument("--items", type=Path, help="item metadata CSV (item, title, categories, text)")
    train.add_argument(
        "--model", action="append", choices=MODEL_NAMES, help="repeat for several (default: ease)"
    )
    train.add_argument(
        "--protocol",
        action="append",
        choices=("strong", "random"),
        help="held-out users (strong) and/or random 8:1:1 (default: strong)",
    )
    train.add_argument("--min-rating", type=float, help="ratings below are not positives (demo: 4)")
    train.add_argument("--min-user-items", type=int, default=5)
    train.add_argument("--min-item-users", type=int, default=5)
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(handler=train_command)

    rec = sub.add_parser("recommend", help="top-N for a user of a trained run, with reasons")
    rec.add_argument("run_id", type=int, metavar="RUN_ID")
    who = rec.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="a user id from the training data")
    who.add_argument("--likes", help="comma-separated item ids: a new user (fold-in, no retraining)")
    rec.add_argument("--n", type=int, default=10)
    rec.add_argument("--model", help="which trained model (default: the first of the run)")
    rec.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rec.set_defaults(handler=recommend_command)

    similar = sub.add_parser("similar", help="items most similar to one item")
    similar.add_argument("run_id", type=int, metavar="RUN_ID")
    similar.add_argument("--item", required=True)
    similar.add_argument("--n", type=int, default=10)
    similar.add_argument("--model")
    similar.set_defaults(handler=similar_command)


def _load_data(args: argparse.Namespace) -> Any:
    from domains.services.recommend import (
        build_interactions,
        load_demo,
        read_interactions_csv,
        read_items_csv,
    )

    if args.data == "demo":
        return load_demo(
            min_rating=4.0 if args.min_rating is None else args.min_rating,
            min_user_items=args.min_user_items,
            min_item_users=args.min_item_users,
        )
    frame = read_interactions_csv(Path(args.data))
    items = read_items_csv(args.items) if args.items else None
    return build_interactions(
        frame,
        items,
        min_rating=args.min_rating,
        min_user_items=args.min_user_items,
        min_item_users=args.min_item_users,
        name=Path(args.data).name,
    )


def train_command(args: argparse.Namespace) -> int:
    from domains.services.recommend import CompareSpec
    from suite.capabilities.recommender.runner import train_and_record

    data = _load_data(args)
    spec = CompareSpec(
        models=tuple(args.model or ["ease"]), protocols=tuple(args.protocol or ["strong"]), seed=args.seed
    )
    progress = TerminalProgress()
    with stop_on_interrupt() as stop:
        outcome = train_and_record(Workspace.from_env(), data, spec, progress, stop)
    progress.close()
    print(f"run {outcome.run_id}: {data.notes['users']} users, {data.notes['items']} items")
    print(outcome.table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


def recommend_command(args: argparse.Namespace) -> int:
    from domains.services.recommend import recommendations_frame
    from suite.capabilities.recommender.runner import open_bundle

    bundle = open_bundle(Workspace.from_env(), args.run_id)
    if args.user is not None:
        items = bundle.recommend_user(args.user, args.n, args.model)
    else:
        liked = [s.strip() for s in args.likes.split(",") if s.strip()]
        items = bundle.recommend_new_user(liked, args.n, args.model)
    frame = recommendations_frame(items)
    if args.json:
        print(json.dumps(frame.to_dict(orient="records"), indent=2))
    else:
        print(frame.to_string(index=False))
    return 0


def similar_command(args: argparse.Namespace) -> int:
    from suite.capabilities.recommender.runner import open_bundle

    bundle = open_bundle(Workspace.from_env(), args.run_id)
    print(bundle.similar_items(args.item, args.n, args.model).to_string(index=False))
    return 0
