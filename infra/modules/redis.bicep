// Azure Cache for Redis with access keys disabled: clients authenticate with Microsoft
// Entra tokens (data access policy assignments in rbac.bicep). TLS only.
param name string
param location string
param tags object = {}

@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param sku string = 'Basic'

@description('Cache size within the SKU family (0 = 250 MB C0).')
param capacity int = 0

resource redis 'Microsoft.Cache/redis@2024-03-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: {
      name: sku
      family: sku == 'Premium' ? 'P' : 'C'
      capacity: capacity
    }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    disableAccessKeyAuthentication: true
    redisConfiguration: {
      'aad-enabled': 'true'
    }
  }
}

output id string = redis.id
output name string = redis.name
output url string = 'rediss://${redis.properties.hostName}:${redis.properties.sslPort}/0'
