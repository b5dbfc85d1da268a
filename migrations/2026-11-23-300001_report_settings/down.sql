DROP TABLE report_settings;
