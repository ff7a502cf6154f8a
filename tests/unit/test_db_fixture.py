from sqlalchemy import text

from loyalty_app.db import write_session
from loyalty_app.models import Merchant


def test_fresh_database_per_test_on_each_backend(db_engine):
    with write_session(db_engine) as s:
        s.add(Merchant(slug="cafe", name="Cafe", short_name="Cafe"))
    with db_engine.connect() as conn:
        assert conn.execute(text("select count(*) from merchant")).scalar_one() == 1
