#!/usr/bin/env bash
# Publishes the function code to the app of an infra/main.bicep deployment
# (docs/deploy.md, "Deploy", step 2), in the way its hosting plan needs:
#   FlexConsumption: func azure functionapp publish --custom; the platform
#     writes the package to the deployment container with the app's identity.
#   ElasticPremium: the app runs from the package blob named by the
#     deployment output packageUrl (WEBSITE_RUN_FROM_PACKAGE, read with the
#     app's identity; no Azure Files content share). The zip is uploaded
#     there with the signed-in identity (deployerPrincipalId in
#     main.bicepparam gets Storage Blob Data Contributor on that container),
#     then the app is restarted and its triggers synced. Core Tools cannot
#     publish this app: on Linux Elastic Premium it uploads with the
#     AzureWebJobsStorage connection string, which the template does not set.
# Usage: scripts/publish.sh <resource-group> [deployment-name]   (default ffbatch-infra)
#        scripts/publish.sh --app <function-app-name>          (its resource group's ffbatch-infra)
# Needs az (logged in), go and make; func for FlexConsumption, zip for ElasticPremium.
# NOTE: this script has not been run by the project (no az/func on the build machines).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/publish.sh <resource-group> [deployment-name] | --app <function-app-name>" >&2
  exit 2
}
want_app=""
if [ "$#" -eq 2 ] && [ "$1" = --app ]; then
  want_app=$2
  [ -n "$want_app" ] || usage
elif [ "$#" -lt 1 ] || [ "$#" -gt 2 ] || [ -z "$1" ] || [ "${1#-}" != "$1" ]; then
  usage
fi

command -v az >/dev/null 2>&1 || { echo "publish: az is missing (see docs/deploy.md, Prerequisites)" >&2; exit 1; }

if [ -n "$want_app" ]; then
  rg=$(az functionapp list --query "[?name=='$want_app'].resourceGroup | [0]" --output tsv)
  deployment=ffbatch-infra
  if [ -z "$rg" ]; then
    echo "publish: no function app named $want_app in the current subscription" >&2
    exit 1
  fi
else
  rg=$1
  deployment=${2:-ffbatch-infra}
fi

plan=$(az deployment group show --resource-group "$rg" --name "$deployment" \
  --query properties.outputs.hostingPlan.value --output tsv)
app=$(az deployment group show --resource-group "$rg" --name "$deployment" \
  --query properties.outputs.functionAppName.value --output tsv)
if [ -z "$app" ] || [ -z "$plan" ]; then
  echo "publish: deployment $deployment in $rg has no functionAppName or hostingPlan output; run the infrastructure step first" >&2
  exit 1
fi
if [ -n "$want_app" ] && [ "$app" != "$want_app" ]; then
  echo "publish: deployment $deployment in $rg is for $app, not $want_app; name the resource group and deployment instead" >&2
  exit 1
fi

# retry runs a command up to three times, a minute apart: role assignments
# made by the infrastructure step can take minutes to apply.
retry() {
  local attempt
  for attempt in 1 2 3; do
    if "$@"; then
      return 0
    fi
    if [ "$attempt" -lt 3 ]; then
      echo "publish: attempt $attempt failed; retrying in 60s" >&2
      sleep 60
    fi
  done
  echo "publish: failed three times; see the output above" >&2
  return 1
}

case "$plan" in
  FlexConsumption)
    command -v func >/dev/null 2>&1 || { echo "publish: func (Core Tools v4) is missing" >&2; exit 1; }
    make dist
    echo "publish: $app (Flex Consumption) with Core Tools"
    retry bash -c 'cd dist && func azure functionapp publish "$1" --custom' publish "$app"
    ;;
  ElasticPremium)
    command -v zip >/dev/null 2>&1 || { echo "publish: zip is missing" >&2; exit 1; }
    url=$(az deployment group show --resource-group "$rg" --name "$deployment" \
      --query properties.outputs.packageUrl.value --output tsv)
    # https://<account>.blob.core.windows.net/<container>/<blob>
    rest=${url#https://}
    account=${rest%%.*}
    path=${rest#*/}
    container=${path%%/*}
    blob=${path#*/}
    if [ -z "$url" ] || [ "$rest" = "$url" ] || [ -z "$account" ] || [ -z "$container" ] || [ "$blob" = "$path" ]; then
      echo "publish: deployment output packageUrl is not a blob URL: '$url'" >&2
      exit 1
    fi
    make package
    echo "publish: $app (Elastic Premium) from $account/$container/$blob"
    retry az storage blob upload --auth-mode login --account-name "$account" --container-name "$container" \
      --name "$blob" --file bin/ffbatch.zip --overwrite --only-show-errors --output none
    # The URL is unchanged, so the app must restart to load the new
    # package, and then its triggers be synced (learn.microsoft.com/azure/
    # azure-functions/deployment-zip-push, "Run from an external package URL").
    az functionapp restart --resource-group "$rg" --name "$app"
    site=$(az functionapp show --resource-group "$rg" --name "$app" --query id --output tsv)
    retry az rest --method post --url "$site/syncfunctiontriggers?api-version=2016-08-01" --output none
    ;;
  *)
    echo "publish: unknown hostingPlan output '$plan'" >&2
    exit 1
    ;;
esac
echo "publish: done"
