#!/usr/bin/env bash
# Creates the public model bucket: uniform bucket-level access, public read, CORS for browsers,
# and a service account that may write objects (and nothing else). Idempotent: re-running it
# skips what exists. Needs gcloud (logged in as a project owner or storage admin).
#
#   PROJECT=my-project BUCKET=playalike-models REGION=europe-north1 ./deploy/create-bucket.sh
set -euo pipefail
: "${PROJECT:?set PROJECT (the Google Cloud project id)}"
: "${BUCKET:?set BUCKET (a globally unique bucket name)}"
REGION="${REGION:-europe-north1}"
SA_NAME="${SA_NAME:-playalike-publisher}"
SA="$SA_NAME@$PROJECT.iam.gserviceaccount.com"
here="$(cd "$(dirname "$0")" && pwd)"

if ! gcloud storage buckets describe "gs://$BUCKET" --project "$PROJECT" >/dev/null 2>&1; then
  gcloud storage buckets create "gs://$BUCKET" --project "$PROJECT" --location "$REGION" \
    --uniform-bucket-level-access --public-access-prevention=inherited
fi
# Public read of objects (uniform access: IAM only, no per-object ACLs).
gcloud storage buckets add-iam-policy-binding "gs://$BUCKET" \
  --member=allUsers --role=roles/storage.objectViewer >/dev/null
# Browsers fetch latest.json and the blob from any origin.
gcloud storage buckets update "gs://$BUCKET" --cors-file="$here/cors.json"

# The publisher: create, read, list and delete objects in this bucket only.
if ! gcloud iam service-accounts describe "$SA" --project "$PROJECT" >/dev/null 2>&1; then
  gcloud iam service-accounts create "$SA_NAME" --project "$PROJECT" \
    --display-name "playalike nightly publisher"
fi
gcloud storage buckets add-iam-policy-binding "gs://$BUCKET" \
  --member="serviceAccount:$SA" --role=roles/storage.objectAdmin >/dev/null

echo "bucket gs://$BUCKET is public-read with CORS; $SA may publish to it"
echo "check: curl -sI https://storage.googleapis.com/$BUCKET/latest.json (after the first publish)"
