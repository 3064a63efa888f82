#!/usr/bin/env bash
# Deploys ffbatch to Azure in three steps (see docs/deploy.md):
#   1. infrastructure from infra/main.bicep (without the Event Grid subscription),
#   2. the function code (make dist, then func azure functionapp publish --custom),
#   3. the Event Grid subscription to the BlobCreated function.
# Usage: scripts/deploy.sh <resource-group> <location>
# Needs az (logged in), func (Core Tools v4), go and make on PATH.
# NOTE: this script has not been run by the project (no az/func on the build machines).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -ne 2 ] || [ -z "$1" ] || [ -z "$2" ]; then
  echo "usage: scripts/deploy.sh <resource-group> <location>" >&2
  exit 2
fi
rg=$1
location=$2

missing=()
for tool in az func go make; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deploy: missing ${missing[*]} (see docs/deploy.md, Prerequisites)" >&2
  exit 1
fi
az account show --query id -o tsv >/dev/null || { echo "deploy: run 'az login' first" >&2; exit 1; }

echo "deploy: resource group $rg in $location"
az group create --name "$rg" --location "$location" --output none

echo "deploy: infrastructure (step 1 of 3)"
az deployment group create --resource-group "$rg" --name ffbatch-infra \
  --template-file infra/main.bicep --parameters infra/main.bicepparam --output none
app=$(az deployment group show --resource-group "$rg" --name ffbatch-infra \
  --query properties.outputs.functionAppName.value --output tsv)
if [ -z "$app" ]; then
  echo "deploy: the deployment has no functionAppName output" >&2
  exit 1
fi

echo "deploy: code to $app (step 2 of 3)"
make dist
# Role assignments for the deployment container can take minutes to apply.
published=no
for attempt in 1 2 3; do
  if (cd dist && func azure functionapp publish "$app" --custom); then
    published=yes
    break
  fi
  echo "deploy: publish attempt $attempt failed; retrying in 60s" >&2
  sleep 60
done
if [ "$published" != yes ]; then
  echo "deploy: publish failed three times; see the output above" >&2
  exit 1
fi

echo "deploy: Event Grid subscription (step 3 of 3)"
az deployment group create --resource-group "$rg" --name ffbatch-eventgrid \
  --template-file infra/main.bicep --parameters infra/main.bicepparam \
  --parameters deployEventSubscription=true --output none

host=$(az deployment group show --resource-group "$rg" --name ffbatch-eventgrid \
  --query properties.outputs.functionAppHostName.value --output tsv)
data=$(az deployment group show --resource-group "$rg" --name ffbatch-eventgrid \
  --query properties.outputs.dataStorageAccountName.value --output tsv)
echo "deploy: done. Upload .mp4 files to container 'input' of storage account $data;"
echo "        status: https://$host/api/status?blob=<name>&code=<Status function key>"
