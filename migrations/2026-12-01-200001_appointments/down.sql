DROP TABLE appointment_events;
DROP TABLE appointment_slots;
DROP TABLE appointments;
