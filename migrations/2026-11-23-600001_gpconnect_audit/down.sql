DROP TABLE gpconnect_audit;
