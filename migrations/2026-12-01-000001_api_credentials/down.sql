DROP TABLE api_credential_practices;
DROP TABLE api_credentials;
