DELETE FROM report_summary WHERE kind = 'nhs111';
