# Production image: one image, three processes (web, worker, scheduler).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=jengu.settings.production

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# collectstatic needs settings but no real services or secrets.
RUN SECRET_KEY=build-only DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 python manage.py collectstatic --no-input

RUN useradd --system --uid 1000 jengu && chown -R jengu /app
USER jengu
EXPOSE 8000
CMD ["gunicorn", "jengu.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
