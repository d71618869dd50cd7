# Accord's production image: gunicorn for the web, the same image for Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    libharfbuzz-subset0 fonts-dejavu-core fonts-liberation curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 accord

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY accord accord
COPY accounts accounts
COPY tenancy tenancy
COPY signatories signatories
RUN pip install --no-cache-dir -c constraints.txt .
COPY . .
RUN DEBUG=1 python manage.py collectstatic --noinput -v0 \
 && mkdir -p /app/var && chown -R accord /app/var
USER accord
EXPOSE 8000
CMD ["gunicorn", "accord.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
