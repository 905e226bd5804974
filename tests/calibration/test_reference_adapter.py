"""Microdata adapter: mapping file, row mapping, declared-missing fields, errors, real ledger."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from calibration.adapters import load_mapping, load_microdata, load_reference, parse_mapping
from calibration.frames import HAS_TIME
from calibration.paths import REFERENCE_ENV, bundled_mapping, reference_dir
from monilab.contracts.errors import MonilabError
from monilab.contracts.vocabulary import CATEGORIES

MAPPING = """
[source]
name = "toy_ledger"
currency = "INR"
currency_scale = 16.0
user_id = 7

[columns]
ts = "Date"
amount = "Amount"
category = "Category"
subcategory = "Subcategory"
kind = "Income/Expense"
method = "Mode"
currency = "Currency"

[dates]
formats = ["%d-%m-%Y %H:%M", "%d-%m-%Y"]

[declared_missing]
transactions = ["merchant", "is_anomaly", "anomaly_kind"]
users = ["spending_type", "age", "gender", "occupation", "region", "monthly_income", "signup_at"]

[methods]
"Cash" = "cash"
"Credit Card" = "card"
"Saving Bank account 1" = "transfer"

[kinds.Expense]
direction = "out"
[kinds.Expense.categories]
"Food" = "food"
"Transportation" = "transport"
[kinds.Expense.subcategories]
"Food/Tea" = "coffee"

[kinds.Income]
direction = "in"
default_category = "income"

[kinds."Transfer-Out"]
direction = "out"
[kinds."Transfer-Out".categories]
"Equity Mutual Fund A" = "investment"
[kinds."Transfer-Out".exclude]
"Saving Bank account 2" = "own-account move"
"""

HEADER = "Date,Mode,Category,Subcategory,Note,Amount,Income/Expense,Currency"
ROWS = [
    "20-09-2018 12:04,Cash,Transportation,Train,ride,30,Expense,INR",
    "19-09-2018,Saving Bank account 1,Food,Lunch,,650.5,Expense,INR",
    "18-09-2018 09:15,Cash,food,tea,chai,10,Expense,INR",
    "11-09-2018,Saving Bank account 1,Other,,From Family,3500,Income,INR",
    "13-09-2018,Saving Bank account 1,Equity Mutual Fund A,,,5000,Transfer-Out,INR",
    "12-09-2018,Saving Bank account 1,Saving Bank account 2,,,2000,Transfer-Out,INR",
]


def write_csv(tmp_path: Path, rows: list[str], name: str = "ledger.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def mapping_path(tmp_path: Path) -> Path:
    path = tmp_path / "toy.toml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def test_maps_rows_into_the_schema(tmp_path: Path, mapping_path: Path) -> None:
    ref = load_microdata(mapping_path, write_csv(tmp_path, ROWS))
    tx = ref.transactions.set_index("txn_id")  # txn_id is the source data row

    assert ref.source_counts == {"Expense": 3, "Income": 1, "Transfer-Out": 2}
    assert ref.excluded == {"own-account move": 1}
    assert sorted(tx.index) == [0, 1, 2, 3, 4]
    assert tx.loc[0, ["category", "direction", "method"]].tolist() == ["transport", "out", "cash"]
    assert tx.loc[2, "category"] == "coffee"  # subcategory override, case-insensitive
    assert tx.loc[3, ["category", "direction", "method"]].tolist() == ["income", "in", "transfer"]
    assert tx.loc[4, ["category", "direction"]].tolist() == ["investment", "out"]
    assert tx.loc[1, "amount"] == 10408  # round(650.5 * 16)
    assert (tx["user_id"] == 7).all()
    assert list(ref.transactions["ts"]) == sorted(ref.transactions["ts"])


def test_row_without_time_gets_no_invented_hour(tmp_path: Path, mapping_path: Path) -> None:
    tx = load_microdata(mapping_path, write_csv(tmp_path, ROWS)).transactions.set_index("txn_id")
    assert tx.loc[0, HAS_TIME] and tx.loc[0, "ts"] == pd.Timestamp("2018-09-20 12:04")
    assert not tx.loc[1, HAS_TIME]
    assert tx.loc[1, "ts"] == pd.Timestamp("2018-09-19")  # midnight, flagged unknown


def test_declared_missing_fields_are_null(tmp_path: Path, mapping_path: Path) -> None:
    ref = load_microdata(mapping_path, write_csv(tmp_path, ROWS))
    assert {"merchant", "is_anomaly", "anomaly_kind", "age", "gender"} <= ref.declared_missing
    for column in ("merchant", "is_anomaly", "anomaly_kind"):
        assert ref.transactions[column].isna().all()
    assert ref.users is None
    assert ref.amount_scale_assumed
    assert ref.schema_table().num_rows == 5


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("20-09-2018 12:04,Cash,Lottery,,x,30,Expense,INR", "column 'Category'"),
        ("2018/09/20,Cash,Food,,x,30,Expense,INR", "column 'Date'"),
        ("20-09-2018,Barter,Food,,x,30,Expense,INR", "unknown method 'Barter'"),
        ("20-09-2018,Cash,Food,,x,abc,Expense,INR", "column 'Amount'"),
        ("20-09-2018,Cash,Food,,x,0.01,Expense,INR", "must be > 0"),
        ("20-09-2018,Cash,Food,,x,30,Refund,INR", "unknown kind 'Refund'"),
        ("20-09-2018,Cash,Food,,x,30,Expense,USD", "currency 'USD'"),
    ],
)
def test_bad_rows_name_row_and_column(
    tmp_path: Path, mapping_path: Path, row: str, fragment: str
) -> None:
    with pytest.raises(MonilabError) as info:
        load_microdata(mapping_path, write_csv(tmp_path, [ROWS[0], row]))
    assert str(info.value).startswith("ledger.csv row 1 (line 3) column")
    assert fragment in str(info.value)


def test_unknown_category_message(tmp_path: Path, mapping_path: Path) -> None:
    bad = "20-09-2018 12:04,Cash,Lottery,,x,30,Expense,INR"
    with pytest.raises(MonilabError) as info:
        load_microdata(mapping_path, write_csv(tmp_path, [ROWS[0], bad]))
    assert str(info.value) == (
        "ledger.csv row 1 (line 3) column 'Category': unknown category 'Lottery' for kind 'expense'"
    )


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (
            lambda d: d["declared_missing"].update(transactions=["merchant", "is_anomaly"]),
            "'anomaly_kind'",
        ),
        (lambda d: d["declared_missing"]["users"].remove("age"), "'age' is neither mapped"),
        (lambda d: d["columns"].update(merchant="Note"), "'merchant' is both mapped"),
        (lambda d: d["kinds"]["Expense"]["categories"].update(Food="meal"), "'meal'"),
        (lambda d: d["methods"].update(Cash="coins"), "'coins'"),
        (lambda d: d["columns"].pop("amount"), "needs amount"),
        (lambda d: d["columns"].update(colour="Colour"), "unknown role 'colour'"),
    ],
)
def test_mapping_validation(edit, fragment: str) -> None:
    data = tomllib.loads(MAPPING)
    edit(data)
    with pytest.raises(MonilabError, match=fragment):
        parse_mapping(data, name="toy.toml")


def test_users_file_is_mapped(tmp_path: Path) -> None:
    data = tomllib.loads(MAPPING)
    data["source"].pop("user_id")
    data["columns"]["user_id"] = "Uid"
    data["declared_missing"]["users"] = ["spending_type", "occupation", "region", "signup_at"]
    data["users"] = {
        "columns": {"user_id": "id", "age": "age", "gender": "sex", "monthly_income": "pay"},
        "genders": {"F": "f", "M": "m"},
    }
    tx = tmp_path / "tx.csv"
    tx.write_text(f"Uid,{HEADER}\n3,{ROWS[0]}\n4,{ROWS[2]}\n", encoding="utf-8")
    users = tmp_path / "users.csv"
    users.write_text("id,age,sex,pay\n3,31,F,1000\n4,,M,\n", encoding="utf-8")

    ref = load_microdata(parse_mapping(data), tx, users_path=users)

    assert ref.users is not None
    row = ref.users.set_index("user_id")
    assert row.loc[3, ["age", "gender", "monthly_income"]].tolist() == [31, "f", 16000]
    assert pd.isna(row.loc[4, "age"]) and pd.isna(row.loc[4, "monthly_income"])
    assert row["region"].isna().all() and (row["persona"] == "reference:toy_ledger").all()
    assert sorted(ref.transactions["user_id"]) == [3, 4]


def test_parquet_source(tmp_path: Path, mapping_path: Path) -> None:
    frame = pd.read_csv(write_csv(tmp_path, ROWS[:1]))
    frame["Date"] = pd.to_datetime(frame["Date"], format="%d-%m-%Y %H:%M")
    path = tmp_path / "ledger.parquet"
    frame.to_parquet(path)
    ref = load_microdata(mapping_path, path)
    assert ref.transactions[HAS_TIME].all() and ref.transactions["amount"].tolist() == [480]


def test_reference_dir_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(REFERENCE_ENV, str(tmp_path))
    assert reference_dir() == tmp_path
    monkeypatch.delenv(REFERENCE_ENV)
    assert reference_dir(tmp_path / "main") == tmp_path / "shared" / "reference"


def test_real_ledger_accounts_for_every_row(ledger_path: Path) -> None:
    ref = load_reference("household_ledger", ledger_path)
    tx = ref.transactions

    assert ref.source_counts == {"Expense": 2176, "Transfer-Out": 160, "Income": 125}
    assert len(tx) + sum(ref.excluded.values()) == 2461
    assert (tx["direction"] == "in").sum() == 125
    assert (tx["direction"] == "out").sum() == 2176 + 160 - sum(ref.excluded.values())
    assert set(tx["category"]) <= set(CATEGORIES)
    assert (tx["category"] == "coffee").sum() == 43  # Food/Tea
    assert 0.5 < tx[HAS_TIME].mean() < 0.56  # "time of day on 53% of rows"
    assert tx["merchant"].isna().all()
    assert load_mapping(bundled_mapping("household_ledger")).amount_scale_assumed


def test_bundled_mapping_finds_its_file_under_the_reference_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "household_ledger").mkdir()
    write_csv(tmp_path / "household_ledger", ROWS, name="daily_household_transactions.csv")
    monkeypatch.setenv(REFERENCE_ENV, str(tmp_path))
    ref = load_reference()
    assert ref.name == "household_ledger" and len(ref.transactions) == 5
    assert ref.excluded == {
        "own-account move between bank accounts: neither spending nor income": 1
    }
    monkeypatch.setenv(REFERENCE_ENV, str(tmp_path / "absent"))
    with pytest.raises(MonilabError, match="not found"):
        load_reference()


def test_single_kind_mapping_without_kind_column(tmp_path: Path) -> None:
    data = tomllib.loads(MAPPING)
    data["columns"].pop("kind")
    data["kinds"] = {"*": {"direction": "out", "default_category": "etc"}}
    ref = load_microdata(parse_mapping(data), write_csv(tmp_path, ROWS[:2]))
    assert ref.source_counts == {"*": 2}
    assert ref.transactions["category"].tolist() == ["etc", "etc"]
    data["kinds"] = {"Expense": {"direction": "out"}}
    with pytest.raises(MonilabError, match='exactly one table "\\*"'):
        parse_mapping(data)
