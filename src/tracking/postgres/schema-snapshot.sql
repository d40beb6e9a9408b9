TABLE carprice_schema_migrations
  version integer NOT NULL
  description text NOT NULL
  applied_at timestamp with time zone NOT NULL DEFAULT now()
  CONSTRAINT carprice_schema_migrations_pkey PRIMARY KEY (version)

TABLE experiment_tags
  experiment_id bigint NOT NULL
  key text COLLATE "C" NOT NULL
  value text COLLATE "C" NOT NULL
  CONSTRAINT experiment_tags_experiment_id_fkey FOREIGN KEY (experiment_id) REFERENCES experiments(experiment_id) ON DELETE CASCADE
  CONSTRAINT experiment_tags_pkey PRIMARY KEY (experiment_id, key)

TABLE experiments
  experiment_id bigint NOT NULL DEFAULT nextval('experiments_experiment_id_seq'::regclass)
  name text COLLATE "C" NOT NULL
  artifact_location text COLLATE "C" NOT NULL
  lifecycle_stage text COLLATE "C" NOT NULL DEFAULT 'active'::text
  creation_time bigint NOT NULL
  last_update_time bigint NOT NULL
  CONSTRAINT experiments_lifecycle_stage_check CHECK ((lifecycle_stage = ANY (ARRAY['active'::text, 'deleted'::text])))
  CONSTRAINT experiments_name_key UNIQUE (name)
  CONSTRAINT experiments_pkey PRIMARY KEY (experiment_id)

TABLE latest_metrics
  run_uuid text COLLATE "C" NOT NULL
  key text COLLATE "C" NOT NULL
  value double precision NOT NULL
  is_nan smallint NOT NULL DEFAULT 0
  timestamp bigint NOT NULL
  step bigint NOT NULL
  CONSTRAINT latest_metrics_pkey PRIMARY KEY (run_uuid, key)
  CONSTRAINT latest_metrics_run_uuid_fkey FOREIGN KEY (run_uuid) REFERENCES runs(run_uuid) ON DELETE CASCADE

TABLE logged_model_metrics
  model_id text COLLATE "C" NOT NULL
  key text COLLATE "C" NOT NULL
  value double precision NOT NULL
  is_nan smallint NOT NULL DEFAULT 0
  timestamp bigint NOT NULL
  step bigint NOT NULL
  run_uuid text COLLATE "C" NOT NULL DEFAULT ''::text
  dataset_name text COLLATE "C" NOT NULL DEFAULT ''::text
  dataset_digest text COLLATE "C" NOT NULL DEFAULT ''::text
  CONSTRAINT logged_model_metrics_model_id_fkey FOREIGN KEY (model_id) REFERENCES logged_models(model_id) ON DELETE CASCADE
  CONSTRAINT logged_model_metrics_pkey PRIMARY KEY (model_id, key, step, "timestamp", value, is_nan, run_uuid, dataset_name, dataset_digest)

TABLE logged_model_params
  model_id text COLLATE "C" NOT NULL
  key text COLLATE "C" NOT NULL
  value text COLLATE "C" NOT NULL
  CONSTRAINT logged_model_params_model_id_fkey FOREIGN KEY (model_id) REFERENCES logged_models(model_id) ON DELETE CASCADE
  CONSTRAINT logged_model_params_pkey PRIMARY KEY (model_id, key)

TABLE logged_model_tags
  model_id text COLLATE "C" NOT NULL
  key text COLLATE "C" NOT NULL
  value text COLLATE "C" NOT NULL
  CONSTRAINT logged_model_tags_model_id_fkey FOREIGN KEY (model_id) REFERENCES logged_models(model_id) ON DELETE CASCADE
  CONSTRAINT logged_model_tags_pkey PRIMARY KEY (model_id, key)

TABLE logged_models
  model_id text COLLATE "C" NOT NULL
  experiment_id bigint NOT NULL
  name text COLLATE "C" NOT NULL
  artifact_location text COLLATE "C" NOT NULL
  creation_time bigint NOT NULL
  last_updated_time bigint NOT NULL
  status text COLLATE "C" NOT NULL
  model_type text COLLATE "C"
  source_run_id text COLLATE "C"
  status_message text COLLATE "C"
  lifecycle_stage text COLLATE "C" NOT NULL DEFAULT 'active'::text
  CONSTRAINT logged_models_experiment_id_fkey FOREIGN KEY (experiment_id) REFERENCES experiments(experiment_id)
  CONSTRAINT logged_models_lifecycle_stage_check CHECK ((lifecycle_stage = ANY (ARRAY['active'::text, 'deleted'::text])))
  CONSTRAINT logged_models_pkey PRIMARY KEY (model_id)

TABLE metrics
  run_uuid text COLLATE "C" NOT NULL
  key text COLLATE "C" NOT NULL
  value double precision NOT NULL
  is_nan smallint NOT NULL DEFAULT 0
  timestamp bigint NOT NULL
  step bigint NOT NULL DEFAULT 0
  CONSTRAINT metrics_pkey PRIMARY KEY (run_uuid, key, "timestamp", step, value, is_nan)
  CONSTRAINT metrics_run_uuid_fkey FOREIGN KEY (run_uuid) REFERENCES runs(run_uuid) ON DELETE CASCADE

TABLE model_version_tags
  name text COLLATE "C" NOT NULL
  version integer NOT NULL
  key text COLLATE "C" NOT NULL
  value text COLLATE "C" NOT NULL
  CONSTRAINT model_version_tags_name_version_fkey FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON UPDATE CASCADE ON DELETE CASCADE
  CONSTRAINT model_version_tags_pkey PRIMARY KEY (name, version, key)

TABLE model_versions
  name text COLLATE "C" NOT NULL
  version integer NOT NULL
  creation_time bigint NOT NULL
  last_updated_time bigint NOT NULL
  description text COLLATE "C"
  user_id text COLLATE "C"
  current_stage text COLLATE "C" NOT NULL DEFAULT 'None'::text
  source text COLLATE "C" NOT NULL
  storage_location text COLLATE "C"
  run_id text COLLATE "C"
  run_link text COLLATE "C"
  status text COLLATE "C" NOT NULL DEFAULT 'READY'::text
  status_message text COLLATE "C"
  model_id text COLLATE "C"
  CONSTRAINT model_versions_name_fkey FOREIGN KEY (name) REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE
  CONSTRAINT model_versions_pkey PRIMARY KEY (name, version)

TABLE params
  run_uuid text COLLATE "C" NOT NULL
  key text COLLATE "C" NOT NULL
  value text COLLATE "C" NOT NULL
  CONSTRAINT params_pkey PRIMARY KEY (run_uuid, key)
  CONSTRAINT params_run_uuid_fkey FOREIGN KEY (run_uuid) REFERENCES runs(run_uuid) ON DELETE CASCADE

TABLE registered_model_aliases
  name text COLLATE "C" NOT NULL
  alias text COLLATE "C" NOT NULL
  version integer NOT NULL
  CONSTRAINT registered_model_aliases_name_fkey FOREIGN KEY (name) REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE
  CONSTRAINT registered_model_aliases_pkey PRIMARY KEY (name, alias)

TABLE registered_model_tags
  name text COLLATE "C" NOT NULL
  key text COLLATE "C" NOT NULL
  value text COLLATE "C" NOT NULL
  CONSTRAINT registered_model_tags_name_fkey FOREIGN KEY (name) REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE
  CONSTRAINT registered_model_tags_pkey PRIMARY KEY (name, key)

TABLE registered_models
  name text COLLATE "C" NOT NULL
  creation_time bigint NOT NULL
  last_updated_time bigint NOT NULL
  description text COLLATE "C"
  CONSTRAINT registered_models_pkey PRIMARY KEY (name)

TABLE run_inputs
  run_uuid text COLLATE "C" NOT NULL
  name text COLLATE "C" NOT NULL
  digest text COLLATE "C" NOT NULL
  source_type text COLLATE "C" NOT NULL
  source text COLLATE "C" NOT NULL
  schema text COLLATE "C"
  profile text COLLATE "C"
  context text COLLATE "C"
  tags_json text COLLATE "C" NOT NULL DEFAULT '[]'::text
  CONSTRAINT run_inputs_pkey PRIMARY KEY (run_uuid, name, digest)
  CONSTRAINT run_inputs_run_uuid_fkey FOREIGN KEY (run_uuid) REFERENCES runs(run_uuid) ON DELETE CASCADE

TABLE run_outputs
  run_uuid text COLLATE "C" NOT NULL
  model_id text COLLATE "C" NOT NULL
  step bigint NOT NULL
  CONSTRAINT run_outputs_pkey PRIMARY KEY (run_uuid, model_id, step)
  CONSTRAINT run_outputs_run_uuid_fkey FOREIGN KEY (run_uuid) REFERENCES runs(run_uuid) ON DELETE CASCADE

TABLE runs
  run_uuid text COLLATE "C" NOT NULL
  name text COLLATE "C" NOT NULL
  experiment_id bigint NOT NULL
  user_id text COLLATE "C" NOT NULL DEFAULT ''::text
  status text COLLATE "C" NOT NULL
  start_time bigint NOT NULL
  end_time bigint
  deleted_time bigint
  lifecycle_stage text COLLATE "C" NOT NULL DEFAULT 'active'::text
  artifact_uri text COLLATE "C" NOT NULL
  CONSTRAINT runs_experiment_id_fkey FOREIGN KEY (experiment_id) REFERENCES experiments(experiment_id)
  CONSTRAINT runs_lifecycle_stage_check CHECK ((lifecycle_stage = ANY (ARRAY['active'::text, 'deleted'::text])))
  CONSTRAINT runs_pkey PRIMARY KEY (run_uuid)
  CONSTRAINT runs_status_check CHECK ((status = ANY (ARRAY['RUNNING'::text, 'SCHEDULED'::text, 'FINISHED'::text, 'FAILED'::text, 'KILLED'::text])))

TABLE tags
  run_uuid text COLLATE "C" NOT NULL
  key text COLLATE "C" NOT NULL
  value text COLLATE "C" NOT NULL
  CONSTRAINT tags_pkey PRIMARY KEY (run_uuid, key)
  CONSTRAINT tags_run_uuid_fkey FOREIGN KEY (run_uuid) REFERENCES runs(run_uuid) ON DELETE CASCADE

CREATE UNIQUE INDEX carprice_schema_migrations_pkey ON public.carprice_schema_migrations USING btree (version);
CREATE UNIQUE INDEX experiment_tags_pkey ON public.experiment_tags USING btree (experiment_id, key);
CREATE UNIQUE INDEX experiments_name_key ON public.experiments USING btree (name);
CREATE UNIQUE INDEX experiments_pkey ON public.experiments USING btree (experiment_id);
CREATE INDEX latest_metrics_by_key_value ON public.latest_metrics USING btree (key, is_nan, value) INCLUDE (run_uuid);
CREATE UNIQUE INDEX latest_metrics_pkey ON public.latest_metrics USING btree (run_uuid, key);
CREATE UNIQUE INDEX logged_model_metrics_pkey ON public.logged_model_metrics USING btree (model_id, key, step, "timestamp", value, is_nan, run_uuid, dataset_name, dataset_digest);
CREATE UNIQUE INDEX logged_model_params_pkey ON public.logged_model_params USING btree (model_id, key);
CREATE UNIQUE INDEX logged_model_tags_pkey ON public.logged_model_tags USING btree (model_id, key);
CREATE INDEX logged_models_by_experiment ON public.logged_models USING btree (experiment_id, lifecycle_stage, creation_time);
CREATE UNIQUE INDEX logged_models_pkey ON public.logged_models USING btree (model_id);
CREATE UNIQUE INDEX metrics_pkey ON public.metrics USING btree (run_uuid, key, "timestamp", step, value, is_nan);
CREATE UNIQUE INDEX model_version_tags_pkey ON public.model_version_tags USING btree (name, version, key);
CREATE INDEX model_versions_by_stage ON public.model_versions USING btree (name, current_stage, version);
CREATE UNIQUE INDEX model_versions_pkey ON public.model_versions USING btree (name, version);
CREATE INDEX params_by_key ON public.params USING btree (key);
CREATE UNIQUE INDEX params_pkey ON public.params USING btree (run_uuid, key);
CREATE UNIQUE INDEX registered_model_aliases_pkey ON public.registered_model_aliases USING btree (name, alias);
CREATE UNIQUE INDEX registered_model_tags_pkey ON public.registered_model_tags USING btree (name, key);
CREATE UNIQUE INDEX registered_models_pkey ON public.registered_models USING btree (name);
CREATE UNIQUE INDEX run_inputs_pkey ON public.run_inputs USING btree (run_uuid, name, digest);
CREATE UNIQUE INDEX run_outputs_pkey ON public.run_outputs USING btree (run_uuid, model_id, step);
CREATE INDEX runs_by_experiment ON public.runs USING btree (experiment_id, lifecycle_stage, start_time DESC, run_uuid);
CREATE UNIQUE INDEX runs_pkey ON public.runs USING btree (run_uuid);
CREATE INDEX tags_by_key ON public.tags USING btree (key);
CREATE UNIQUE INDEX tags_pkey ON public.tags USING btree (run_uuid, key);
