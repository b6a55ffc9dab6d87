// Key Vault in RBAC mode (no access policies), only for secrets a service cannot avoid:
// the Cosmos DB for MongoDB connection string and, if given, the OMS admin API key.
param name string
param location string
param tags object = {}

@secure()
@description('Optional admin API key; stored as secret `oms-admin-api-key` when not empty.')
param omsAdminApiKey string = ''

param adminApiKeySecretName string = 'oms-admin-api-key'

var hasAdminApiKey = !empty(omsAdminApiKey)

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource adminApiKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (hasAdminApiKey) {
  parent: vault
  name: adminApiKeySecretName
  properties: {
    contentType: 'OMS admin API key'
    value: omsAdminApiKey
  }
}

output id string = vault.id
output name string = vault.name
output endpoint string = vault.properties.vaultUri
output adminApiKeySecretName string = hasAdminApiKey ? adminApiKeySecretName : ''
output adminApiKeySecretUri string = hasAdminApiKey ? '${vault.properties.vaultUri}secrets/${adminApiKeySecretName}' : ''
