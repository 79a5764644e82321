import requests

TOKEN = 'YOUR_TOKEN'

endpoint = 'https://api.withleaf.io/services/usermanagement/api/users/{leafUserId}/claas-credentials'
headers = {'Authorization': f'Bearer {TOKEN}'}

data = {
    "clientKey": "your-client-key",
    "clientSecret": "your-client-secret",
    "refreshToken": "grower-refresh-token",
    "clientEnvironment": "PRODUCTION"
}

response = requests.post(endpoint, headers=headers, json=data)
print(response.json())
