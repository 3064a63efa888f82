#!/usr/bin/env bash
# Deploys ffbatch to Azure in three steps (see docs/deploy.md):
#   1. infrastructure from infra/main.bicep (without the Event Grid subscription),
#   2. the function code (scripts/publish.sh: Core Tools on Flex Consumption,
#      the run-from-package blob on Elastic Premium),
#   3. the Event Grid subscription to the BlobCreated function.
# Usage: scripts/deploy.sh <resource-group> <location>
# Needs az (logged in), go and make on PATH; func (Core Tools v4) for Flex
# Consumption, zip for Elastic Premium.
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
for tool in az go make; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deploy: missing ${missing[*]} (see docs/deploy.md, Prerequisites)" >&2
  exit 1
fi
az account show --query id -o tsv >/dev/null || { echo "deploy: run 'az login' first" >&2; exit 1; }

# The signed-in principal uploads the package on Elastic Premium
# (deployerPrincipalId); on Flex Consumption the template ignores it.
deployer_id=""
deployer_type=User
case "$(az account show --query user.type --output tsv)" in
  user)
    deployer_id=$(az ad signed-in-user show --query id --output tsv || true)
    ;;
  servicePrincipal)
    deployer_type=ServicePrincipal
    deployer_id=$(az ad sp show --id "$(az account show --query user.name --output tsv)" --query id --output tsv 2>/dev/null || true)
    ;;
esac
if [ -z "$deployer_id" ]; then
  echo "deploy: could not find the signed-in principal's object id; with hostingPlan=ElasticPremium, give it Storage Blob Data Contributor on the app-package container yourself" >&2
fi
deployer=(--parameters "deployerPrincipalId=$deployer_id" "deployerPrincipalType=$deployer_type")

echo "deploy: resource group $rg in $location"
az group create --name "$rg" --location "$location" --output none

echo "deploy: infrastructure (step 1 of 3)"
az deployment group create --resource-group "$rg" --name ffbatch-infra \
  --template-file infra/main.bicep --parameters infra/main.bicepparam "${deployer[@]}" --output none
app=$(az deployment group show --resource-group "$rg" --name ffbatch-infra \
  --query properties.outputs.functionAppName.value --output tsv)
if [ -z "$app" ]; then
  echo "deploy: the deployment has no functionAppName output" >&2
  exit 1
fi

echo "deploy: code to $app (step 2 of 3)"
scripts/publish.sh "$rg" ffbatch-infra

echo "deploy: Event Grid subscription (step 3 of 3)"
az deployment group create --resource-group "$rg" --name ffbatch-eventgrid \
  --template-file infra/main.bicep --parameters infra/main.bicepparam "${deployer[@]}" \
  --parameters deployEventSubscription=true --output none

host=$(az deployment group show --resource-group "$rg" --name ffbatch-eventgrid \
  --query properties.outputs.functionAppHostName.value --output tsv)
data=$(az deployment group show --resource-group "$rg" --name ffbatch-eventgrid \
  --query properties.outputs.dataStorageAccountName.value --output tsv)
echo "deploy: done. Upload .mp4 files to container 'input' of storage account $data;"
echo "        status: https://$host/api/status?blob=<name>&code=<Status function key>"
