"""The lab's backend: connects with DATABASE_URL through libpq in a loop and logs libpq's own
error text on failure, which is what a real backend prints."""

import os
import sys
import time
from datetime import datetime, timezone

import psycopg2


def log(message: str) -> None:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    sys.stdout.write(f"{stamp} backend: {message}\n")
    sys.stdout.flush()


def main() -> None:
    url = os.environ["DATABASE_URL"]
    interval = float(os.environ.get("BACKEND_RETRY_SECONDS", "1"))
    connected = False
    while True:
        try:
            conn = psycopg2.connect(url, connect_timeout=3)
            try:
                with conn.cursor() as cursor:
                    cursor.execute("SELECT version()")
                    version = cursor.fetchone()[0]
            finally:
                conn.close()  # one short connection per try, like a pool that drains
            if not connected:
                log(f"connected: {version}")
            connected = True
        except psycopg2.Error as exc:
            connected = False
            for line in str(exc).strip().splitlines():
                log(line.strip())
        time.sleep(interval)


if __name__ == "__main__":
    main()
