# Spark's production image: one image for the web (Daphne), worker and beat processes.

# The browser code: npm libraries (package-lock.json) bundled by esbuild into static/build.
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY static/src static/src
RUN npm run build

FROM python:3.11-slim-bookworm AS base

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    LITELLM_LOCAL_MODEL_COST_MAP=True \
    LITELLM_OFFLINE_MODE=true \
    HF_HUB_OFFLINE=1 \
    DJANGO_SETTINGS_MODULE=spark.settings.prod

# WeasyPrint needs pango/harfbuzz; gettext compiles translations.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 gettext \
 && rm -rf /var/lib/apt/lists/*

RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
ENV PATH="/app/.venv/bin:$PATH"

COPY . .
COPY --from=assets /app/static/build static/build
# collectstatic only needs settings to import: give it throwaway values at build time.
RUN DJANGO_SECRET_KEY=build SPARK_PASSWORD_PEPPER=build DATABASE_URL=sqlite:////tmp/build.db \
    ALLOWED_HOSTS=build python manage.py collectstatic --noinput \
 && python manage.py compilemessages --ignore=.venv

RUN useradd --system --uid 1000 spark && mkdir -p /app/var/media && chown -R spark /app/var
USER spark

EXPOSE 8000
CMD ["daphne", "--bind", "0.0.0.0", "--port", "8000", "--proxy-headers", "spark.asgi:application"]
