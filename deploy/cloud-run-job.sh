#!/usr/bin/env bash
# Builds the builder image, creates (or updates) a Cloud Run job running `playalike run`, and a
# Cloud Scheduler trigger at 01:00 Europe/Stockholm (Cloud Scheduler handles DST itself).
# Run deploy/create-bucket.sh first. IGDB credentials live in Secret Manager.
#
#   PROJECT=my-project BUCKET=playalike-models REGION=europe-north1 ./deploy/cloud-run-job.sh
set -euo pipefail
: "${PROJECT:?set PROJECT}"
: "${BUCKET:?set BUCKET}"
REGION="${REGION:-europe-north1}"
JOB="${JOB:-playalike-nightly}"
REPO="${REPO:-playalike}"
SA="${SA_NAME:-playalike-publisher}@$PROJECT.iam.gserviceaccount.com"
IMAGE="$REGION-docker.pkg.dev/$PROJECT/$REPO/builder:latest"
root="$(cd "$(dirname "$0")/.." && pwd)"

gcloud services enable run.googleapis.com cloudscheduler.googleapis.com artifactregistry.googleapis.com \
  secretmanager.googleapis.com cloudbuild.googleapis.com --project "$PROJECT"
gcloud artifacts repositories describe "$REPO" --location "$REGION" --project "$PROJECT" >/dev/null 2>&1 ||
  gcloud artifacts repositories create "$REPO" --repository-format docker --location "$REGION" --project "$PROJECT"

# IGDB credentials (Twitch application): create the secrets once, by hand, e.g.
#   printf %s "$IGDB_CLIENT_ID" | gcloud secrets create igdb-client-id --data-file=- --project "$PROJECT"
#   printf %s "$IGDB_CLIENT_SECRET" | gcloud secrets create igdb-client-secret --data-file=- --project "$PROJECT"
for s in igdb-client-id igdb-client-secret; do
  gcloud secrets add-iam-policy-binding "$s" --project "$PROJECT" \
    --member "serviceAccount:$SA" --role roles/secretmanager.secretAccessor >/dev/null
done

gcloud builds submit "$root" --project "$PROJECT" --config "$root/deploy/cloudbuild.yaml" \
  --substitutions "_IMAGE=$IMAGE"

# The job keeps no disk between runs: each run fetches a full snapshot (use --snapshot on a
# mounted bucket volume to make it incremental). One task, no retries: a failed run publishes
# nothing and the next night tries again.
gcloud run jobs deploy "$JOB" --project "$PROJECT" --region "$REGION" --image "$IMAGE" \
  --service-account "$SA" --tasks 1 --max-retries 0 --task-timeout 2h --memory 4Gi --cpu 2 \
  --set-secrets IGDB_CLIENT_ID=igdb-client-id:latest,IGDB_CLIENT_SECRET=igdb-client-secret:latest \
  --set-env-vars "PLAYALIKE_BUCKET=gs://$BUCKET,PLAYALIKE_KEEP=14" \
  --args run

# 01:00 Stockholm time all year round (Cloud Scheduler follows the zone's DST rules).
SCHED_SA="$SA"
gcloud run jobs add-iam-policy-binding "$JOB" --project "$PROJECT" --region "$REGION" \
  --member "serviceAccount:$SCHED_SA" --role roles/run.invoker >/dev/null
uri="https://run.googleapis.com/v2/projects/$PROJECT/locations/$REGION/jobs/$JOB:run"
if gcloud scheduler jobs describe "$JOB" --location "$REGION" --project "$PROJECT" >/dev/null 2>&1; then
  verb=update
else
  verb=create
fi
gcloud scheduler jobs "$verb" http "$JOB" --project "$PROJECT" --location "$REGION" \
  --schedule "0 1 * * *" --time-zone "Europe/Stockholm" \
  --uri "$uri" --http-method POST --oauth-service-account-email "$SCHED_SA"
echo "Cloud Run job $JOB runs daily at 01:00 Europe/Stockholm; run now: gcloud run jobs execute $JOB --region $REGION"
