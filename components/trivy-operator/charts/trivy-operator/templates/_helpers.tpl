{{- define "trivy-operator.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
{{- end }}

{{/* The platform registry: required, so a cluster without one fails to render. */}}
{{- define "trivy-operator.registry" -}}
{{ required "global.registry must be set: the registry every image comes from" .Values.global.registry }}
{{- end }}
