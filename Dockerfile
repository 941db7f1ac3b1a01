# The playground for a class:
#   docker build -t nn-playground .
#   docker run --rm -p 8501:8501 nn-playground        # then open http://localhost:8501
# Trained models go to /app/runs; mount a volume there to keep them across restarts.
# A large class: docker-compose.yml runs several of these behind nginx, with Ray (README).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    NN_PLAYGROUND_RUNS=/app/runs

RUN useradd --create-home --uid 1000 --shell /usr/sbin/nologin app

WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN pip install -r requirements.txt -c constraints.txt

# The code stays owned by root (read-only for the app); only runs/ is writable.
COPY . .
RUN mkdir -p /app/runs && chown app:app /app/runs

USER app
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4)"
CMD ["streamlit", "run", "app.py", "--server.port", "8501", "--server.address", "0.0.0.0", \
     "--server.headless", "true"]
