DROP TABLE patient_registrations;
DROP TABLE patients;
